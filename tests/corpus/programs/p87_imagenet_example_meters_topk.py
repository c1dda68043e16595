"""The bookkeeping of pytorch/examples' ImageNet script on a small problem: AverageMeter with
a Summary enum, ProgressMeter printing "[ 3/12]" batch lines, accuracy(output, target,
topk=(1, 5)) with pred.t() / pred.eq(target.view(1, -1).expand_as(pred)) /
correct[:k].reshape(-1).float().sum(0, keepdim=True).mul_(100.0 / batch_size),
adjust_learning_rate by hand, best_acc1 tracked with max, save_checkpoint to a file and
shutil.copyfile of the best; plus a per-class accuracy from scatter_add_/bincount."""
# corpus: same-numbers
import shutil
from enum import Enum

import numpy as np
import torch
import torch.nn as nn
from sklearn.datasets import load_digits


class Summary(Enum):
    NONE = 0
    AVERAGE = 1
    SUM = 2
    COUNT = 3


class AverageMeter(object):
    """Computes and stores the average and current value"""
    def __init__(self, name, fmt=':f', summary_type=Summary.AVERAGE):
        self.name, self.fmt, self.summary_type = name, fmt, summary_type
        self.reset()

    def reset(self):
        self.val, self.avg, self.sum, self.count = 0, 0, 0, 0

    def update(self, val, n=1):
        self.val = val
        self.sum += val * n
        self.count += n
        self.avg = self.sum / self.count

    def __str__(self):
        fmtstr = '{name} {val' + self.fmt + '} ({avg' + self.fmt + '})'
        return fmtstr.format(**self.__dict__)

    def summary(self):
        fmtstr = {Summary.NONE: '', Summary.AVERAGE: '{name} {avg:.3f}',
                  Summary.SUM: '{name} {sum:.3f}', Summary.COUNT: '{name} {count:.3f}'}
        return fmtstr[self.summary_type].format(**self.__dict__)


class ProgressMeter(object):
    def __init__(self, num_batches, meters, prefix=""):
        self.batch_fmtstr = self._get_batch_fmtstr(num_batches)
        self.meters, self.prefix = meters, prefix

    def display(self, batch):
        entries = [self.prefix + self.batch_fmtstr.format(batch)]
        entries += [str(meter) for meter in self.meters]
        print('\t'.join(entries))

    def display_summary(self):
        print(' '.join([' *'] + [meter.summary() for meter in self.meters]))

    def _get_batch_fmtstr(self, num_batches):
        num_digits = len(str(num_batches // 1))
        fmt = '{:' + str(num_digits) + 'd}'
        return '[' + fmt + '/' + fmt.format(num_batches) + ']'


def accuracy(output, target, topk=(1,)):
    """Computes the accuracy over the k top predictions for the specified values of k"""
    with torch.no_grad():
        maxk = max(topk)
        batch_size = target.size(0)
        _, pred = output.topk(maxk, 1, True, True)
        pred = pred.t()
        correct = pred.eq(target.view(1, -1).expand_as(pred))
        res = []
        for k in topk:
            correct_k = correct[:k].reshape(-1).float().sum(0, keepdim=True)
            res.append(correct_k.mul_(100.0 / batch_size))
        return res


digits = load_digits()
X = torch.tensor(digits.data / 16.0, dtype=torch.float32)
y = torch.tensor(digits.target)
train_batches = [(X[i:i + 128], y[i:i + 128]) for i in range(0, 1536, 128)]
val_X, val_y = X[1536:], y[1536:]
model = nn.Sequential(nn.Linear(64, 48), nn.ReLU(), nn.Linear(48, 10))
with torch.no_grad():
    for p in model.parameters():
        p.copy_(torch.tensor(np.cos(np.arange(p.numel()) * 0.7).reshape(p.shape) * 0.15))
criterion = nn.CrossEntropyLoss()
optimizer = torch.optim.SGD(model.parameters(), 0.1, momentum=0.9, weight_decay=1e-4)


def adjust_learning_rate(optimizer, epoch, base_lr=0.1):
    lr = base_lr * (0.1 ** (epoch // 2))
    for param_group in optimizer.param_groups:
        param_group['lr'] = lr


best_acc1 = 0
for epoch in range(4):
    adjust_learning_rate(optimizer, epoch)
    losses, top1 = AverageMeter('Loss', ':.4e'), AverageMeter('Acc@1', ':6.2f')
    top5 = AverageMeter('Acc@5', ':6.2f')
    progress = ProgressMeter(len(train_batches), [losses, top1, top5],
                             prefix="Epoch: [{}]".format(epoch))
    model.train()
    for i, (images, target) in enumerate(train_batches):
        output = model(images)
        loss = criterion(output, target)
        acc1, acc5 = accuracy(output, target, topk=(1, 5))
        losses.update(loss.item(), images.size(0))
        top1.update(acc1[0], images.size(0))
        top5.update(acc5[0], images.size(0))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        if i % 5 == 0:
            progress.display(i + 1)
    model.eval()
    with torch.no_grad():
        output = model(val_X)
        acc1, acc5 = accuracy(output, val_y, topk=(1, 5))
    print(f' * Val Acc@1 {acc1.item():.3f} Acc@5 {acc5.item():.3f} lr '
          f'{optimizer.param_groups[0]["lr"]:.4f}')
    is_best = acc1 > best_acc1
    best_acc1 = max(acc1, best_acc1)
    torch.save({'epoch': epoch + 1, 'state_dict': model.state_dict(), 'best_acc1': best_acc1,
                'optimizer': optimizer.state_dict()}, 'checkpoint.pth.tar')
    if is_best:
        shutil.copyfile('checkpoint.pth.tar', 'model_best.pth.tar')
progress.display_summary()
best = torch.load('model_best.pth.tar')
print('best epoch', best['epoch'], 'best_acc1', best['best_acc1'])

pred = output.argmax(1)
hits = torch.zeros(10).scatter_add_(0, val_y, (pred == val_y).float())
per_class = hits / torch.bincount(val_y, minlength=10).float()
print('per-class accuracy', per_class)
confusion = torch.zeros(10, 10, dtype=torch.long)
confusion.index_put_((val_y, pred), torch.ones_like(val_y), accumulate=True)
print(confusion.diag(), confusion.sum(0))
