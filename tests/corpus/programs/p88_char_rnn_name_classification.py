"""The official "Classifying Names with a Character-Level RNN" tutorial (its original form):
unicodeToAscii, lineToTensor one-hot tensors (len, 1, n_letters), an RNN of nn.Linear i2h/i2o
over torch.cat((input, hidden), 1) with nn.LogSoftmax, NLLLoss, the hand-written update
p.data.add_(p.grad.data, alpha=-learning_rate), categoryFromOutput with topk, a row-normalised
confusion matrix and predict() with output.topk(n, 1, True). Weights set from NumPy."""
# corpus: same-numbers
import random
import string
import unicodedata

import numpy as np
import torch
import torch.nn as nn

all_letters = string.ascii_letters + " .,;'"
n_letters = len(all_letters)


def unicodeToAscii(s):
    return ''.join(c for c in unicodedata.normalize('NFD', s)
                   if unicodedata.category(c) != 'Mn' and c in all_letters)


print(unicodeToAscii('Ślusàrski'), n_letters)
category_lines = {
    'English': 'Smith Johnson Williams Brown Taylor Walker Wright',
    'French': 'Dubois Lefèvre Moreau Laurent Rousseau Fournier Girard',
    'Italian': 'Rossi Bianchi Ricci Esposito Colombo Romano Greco',
    'Japanese': 'Satō Suzuki Takahashi Tanaka Watanabe Yamamoto Nakamura'}
category_lines = {k: [unicodeToAscii(n) for n in v.split()] for k, v in category_lines.items()}
all_categories = list(category_lines)
n_categories = len(all_categories)


def lineToTensor(line):
    tensor = torch.zeros(len(line), 1, n_letters)
    for li, letter in enumerate(line):
        tensor[li][0][all_letters.find(letter)] = 1
    return tensor


print(lineToTensor('J').nonzero(), lineToTensor('Jones').size())


class RNN(nn.Module):
    def __init__(self, input_size, hidden_size, output_size):
        super(RNN, self).__init__()
        self.hidden_size = hidden_size
        self.i2h = nn.Linear(input_size + hidden_size, hidden_size)
        self.i2o = nn.Linear(input_size + hidden_size, output_size)
        self.softmax = nn.LogSoftmax(dim=1)

    def forward(self, input, hidden):
        combined = torch.cat((input, hidden), 1)
        hidden = self.i2h(combined)
        output = self.i2o(combined)
        output = self.softmax(output)
        return output, hidden

    def initHidden(self):
        return torch.zeros(1, self.hidden_size)


n_hidden = 32
rnn = RNN(n_letters, n_hidden, n_categories)
with torch.no_grad():
    for name, p in rnn.named_parameters():
        scale = 0.05 if 'weight' in name else 0.0
        p.copy_(torch.tensor(np.sin(np.arange(p.numel()) * 0.37).reshape(p.shape) * scale))
output, next_hidden = rnn(lineToTensor('Albert')[0], rnn.initHidden())
print(output, next_hidden.shape)


def categoryFromOutput(output):
    top_n, top_i = output.topk(1)
    category_i = top_i[0].item()
    return all_categories[category_i], category_i


print(categoryFromOutput(output))
random.seed(0)


def randomChoice(items):
    return items[random.randint(0, len(items) - 1)]


def randomTrainingExample():
    category = randomChoice(all_categories)
    line = randomChoice(category_lines[category])
    category_tensor = torch.tensor([all_categories.index(category)], dtype=torch.long)
    return category, line, category_tensor, lineToTensor(line)


criterion = nn.NLLLoss()
learning_rate = 0.05


def train(category_tensor, line_tensor):
    hidden = rnn.initHidden()
    rnn.zero_grad()
    for i in range(line_tensor.size()[0]):
        output, hidden = rnn(line_tensor[i], hidden)
    loss = criterion(output, category_tensor)
    loss.backward()
    for p in rnn.parameters():
        p.data.add_(p.grad.data, alpha=-learning_rate)
    return output, loss.item()


n_iters, print_every, current_loss = 600, 100, 0
for it in range(1, n_iters + 1):
    category, line, category_tensor, line_tensor = randomTrainingExample()
    output, loss = train(category_tensor, line_tensor)
    current_loss += loss
    if it % print_every == 0:
        guess, guess_i = categoryFromOutput(output)
        correct = '✓' if guess == category else '✗ (%s)' % category
        print('%d %d%% %.4f %s / %s %s avg loss %.4f' % (it, it / n_iters * 100, loss, line,
                                                         guess, correct,
                                                         current_loss / print_every))
        current_loss = 0


def evaluate(line_tensor):
    hidden = rnn.initHidden()
    for i in range(line_tensor.size()[0]):
        output, hidden = rnn(line_tensor[i], hidden)
    return output


confusion = torch.zeros(n_categories, n_categories)
for category in all_categories:
    for line in category_lines[category]:
        guess, guess_i = categoryFromOutput(evaluate(lineToTensor(line)))
        confusion[all_categories.index(category)][guess_i] += 1
for i in range(n_categories):
    confusion[i] = confusion[i] / confusion[i].sum()
print(confusion)


def predict(input_line, n_predictions=3):
    print('\n> %s' % input_line)
    with torch.no_grad():
        output = evaluate(lineToTensor(input_line))
        topv, topi = output.topk(n_predictions, 1, True)
        for i in range(n_predictions):
            value = topv[0][i].item()
            category_index = topi[0][i].item()
            print('(%.2f) %s' % (value, all_categories[category_index]))


for name in ('Dovesky', 'Satoshi'):
    predict(name)
