"""The import rewriting the corpus uses: only import statements change, names stay bound."""

from tests.corpus.swap_imports import swap_imports


def test_each_import_form():
    source = (
        "import torch\n"
        "import torch.nn as nn\n"
        "import torch.nn.functional as F\n"
        "import numpy as np, torch.optim as optim\n"
        "from torch import nn, optim as o\n"
        "from torch.utils.data import (DataLoader,\n"
        "                              TensorDataset)\n"
        "import torch.utils.data\n"
        "def f():\n"
        "    import torch as t\n"
        "    return t\n"
        "x = 'import torch'  # text is not an import\n"
    )
    expected = (
        "import ffnn as torch\n"
        "import ffnn.nn as nn\n"
        "import ffnn.nn.functional as F\n"
        "import numpy as np; import ffnn.optim as optim\n"
        "from ffnn import nn, optim as o\n"
        "from ffnn.utils.data import DataLoader, TensorDataset\n"
        "\n"
        "import ffnn.utils.data; import ffnn as torch\n"
        "def f():\n"
        "    import ffnn as t\n"
        "    return t\n"
        "x = 'import torch'  # text is not an import\n"
    )
    assert swap_imports(source) == expected


def test_other_imports_are_untouched():
    source = "import torchvision\nfrom torchmetrics import x\nfrom .torch import y\n"
    assert swap_imports(source) == source
