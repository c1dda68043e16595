"""The tensor tour of the tutorials: tensors from lists and NumPy, *_like factories,
attributes, indexing and slicing with assignment, cat, matrix and element-wise products,
item(), in-place add_ and the NumPy bridge sharing memory both ways."""
# corpus: same-numbers
import numpy as np
import torch

data = [[1, 2], [3, 4]]
x_data = torch.tensor(data)
np_array = np.array(data)
x_np = torch.from_numpy(np_array)
x_ones = torch.ones_like(x_data)
print(f"Ones Tensor: \n {x_ones} \n")
x_zeros = torch.zeros_like(x_data, dtype=torch.float)
print(f"Zeros Tensor: \n {x_zeros} \n")

shape = (2, 3,)
ones_tensor = torch.ones(shape)
print(f"Shape of tensor: {ones_tensor.shape}")
print(f"Device tensor is stored on: {ones_tensor.device}")

tensor = torch.ones(4, 4)
print(f"First row: {tensor[0]}")
print(f"First column: {tensor[:, 0]}")
print(f"Last column: {tensor[..., -1]}")
tensor[:, 1] = 0
print(tensor)

t1 = torch.cat([tensor, tensor, tensor], dim=1)
print(t1.shape)
y1 = tensor @ tensor.T
y2 = tensor.matmul(tensor.T)
z1 = tensor * tensor
z2 = tensor.mul(tensor)
print(torch.equal(y1, y2), torch.equal(z1, z2), y1[0])

agg = tensor.sum()
agg_item = agg.item()
print(agg_item, type(agg_item).__name__)

tensor.add_(5)
print(tensor[0])

t = torch.ones(5)
n = t.numpy()
t.add_(1)
print(f"t: {t}")
print(f"n: {n}")
n = np.ones(5)
t = torch.from_numpy(n)
np.add(n, 1, out=n)
print(f"t: {t}")
print(x_np.sum().item(), x_data.float().mean().item(), x_data.max().item())
