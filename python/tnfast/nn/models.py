"""Reference networks of the MPO-Net experiments, dense or with MPO layers.

* :func:`fc2` - MNIST 784-256-10 (ReLU);
* :func:`lenet5` - MNIST LeNet-5 (two 5x5 convolutions, FC 400-120-84-10);
* :func:`vgg_small`, :func:`resnet_small`, :func:`densenet_small` - narrow CIFAR-10 networks.

With ``mpo=True`` the fully connected layers use the published MPO-Net configurations
(``FC2_MPO``, ``LENET5_MPO``); the CIFAR networks take ``mpo_convs``/``mpo_fc`` and build
:class:`~tnfast.nn.MPOConv2d` / :class:`~tnfast.nn.MPOLinear` with balanced modes.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from .factorize import choose_modes
from .mpo_layers import MPOConv2d, MPOLinear

__all__ = ["fc2", "lenet5", "vgg_small", "resnet_small", "densenet_small", "FC2_MPO", "LENET5_MPO",
           "count_params"]

# (in_modes, out_modes, bond_dim) per FC layer, from Gao et al. (2020)
FC2_MPO = {
    "fc1": ((4, 7, 7, 4), (4, 4, 4, 4), 4),
    "fc2": ((4, 4, 4, 4), (1, 10, 1, 1), 4),
}
LENET5_MPO = {
    "fc1": ((2, 10, 10, 2), (2, 5, 6, 2), 4),
    "fc2": ((2, 5, 6, 2), (2, 3, 7, 2), 4),
    "fc3": ((2, 3, 7, 2), (1, 5, 2, 1), 2),
}


def count_params(model):
    """Number of trainable parameters."""
    return int(sum(p.numel() for p in model.parameters() if p.requires_grad))


def _linear(name, n_in, n_out, mpo, config):
    if not mpo:
        return nn.Linear(n_in, n_out)
    im, om, d = config[name]
    return MPOLinear(n_in, n_out, im, om, bond_dim=d)


class FC2(nn.Module):
    """784 -> 256 -> 10 with ReLU; input ``(B, 1, 28, 28)`` or ``(B, 784)``."""

    def __init__(self, mpo=False):
        super().__init__()
        self.fc1 = _linear("fc1", 784, 256, mpo, FC2_MPO)
        self.fc2 = _linear("fc2", 256, 10, mpo, FC2_MPO)

    def forward(self, x):
        return self.fc2(F.relu(self.fc1(x.reshape(x.shape[0], -1))))


class LeNet5(nn.Module):
    """conv(1->6, 5x5, pad 2) - pool - conv(6->16, 5x5) - pool - FC 400-120-84-10 (ReLU)."""

    def __init__(self, mpo=False):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 6, 5, padding=2)
        self.conv2 = nn.Conv2d(6, 16, 5)
        self.fc1 = _linear("fc1", 400, 120, mpo, LENET5_MPO)
        self.fc2 = _linear("fc2", 120, 84, mpo, LENET5_MPO)
        self.fc3 = _linear("fc3", 84, 10, mpo, LENET5_MPO)

    def forward(self, x):
        x = x.reshape(x.shape[0], 1, 28, 28)
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        x = x.flatten(1)
        return self.fc3(F.relu(self.fc2(F.relu(self.fc1(x)))))


def fc2(mpo=False):
    """The FC2 network (dense, or MPO-Net's 1,024 + 736 parameter MPO layers with ``mpo=True``)."""
    return FC2(mpo)


def lenet5(mpo=False):
    """LeNet-5 (dense, or with the MPO FC layers 1,792 / 944 / 124 parameters with ``mpo=True``)."""
    return LeNet5(mpo)


def _conv(cin, cout, k, stride=1, padding=0, mpo=False, bond_dim=4, bias=True):
    if mpo and cin >= 8:
        n = 2 if max(cin, cout) <= 64 else 3
        im, om = choose_modes(cin, cout, n)
        return MPOConv2d(cin, cout, k, stride=stride, padding=padding, in_modes=im, out_modes=om,
                         bond_dim=bond_dim, bias=bias)
    return nn.Conv2d(cin, cout, k, stride=stride, padding=padding, bias=bias)


def _fc(n_in, n_out, mpo=False, bond_dim=4):
    if mpo and n_in >= 64 and n_out >= 64:
        return MPOLinear(n_in, n_out, bond_dim=bond_dim)
    return nn.Linear(n_in, n_out)


class VGGSmall(nn.Module):
    """VGG-style: blocks of two 3x3 conv + BN + ReLU, max-pool; then FC - FC - classifier."""

    def __init__(self, width=32, fc_width=256, num_classes=10, mpo_convs=False, mpo_fc=False, bond_dim=4):
        super().__init__()
        chans = [width, 2 * width, 4 * width]
        layers, cin = [], 3
        for c in chans:
            for _ in range(2):
                layers += [_conv(cin, c, 3, padding=1, mpo=mpo_convs, bond_dim=bond_dim, bias=False),
                           nn.BatchNorm2d(c), nn.ReLU(inplace=True)]
                cin = c
            layers.append(nn.MaxPool2d(2))
        self.features = nn.Sequential(*layers)
        self.fc1 = _fc(cin * 16, fc_width, mpo_fc, bond_dim)
        self.fc2 = _fc(fc_width, fc_width, mpo_fc, bond_dim)
        self.classifier = nn.Linear(fc_width, num_classes)

    def forward(self, x):
        x = self.features(x).flatten(1)
        x = F.relu(self.fc1(x))
        x = F.relu(self.fc2(x))
        return self.classifier(x)


class _Basic(nn.Module):
    def __init__(self, cin, cout, stride, mpo, bond_dim):
        super().__init__()
        self.conv1 = _conv(cin, cout, 3, stride=stride, padding=1, mpo=mpo, bond_dim=bond_dim, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = _conv(cout, cout, 3, padding=1, mpo=mpo, bond_dim=bond_dim, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.short = None
        if stride != 1 or cin != cout:
            self.short = nn.Sequential(nn.Conv2d(cin, cout, 1, stride=stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return F.relu(out + (x if self.short is None else self.short(x)))


class ResNetSmall(nn.Module):
    """ResNet-style: stem conv, three stages of ``blocks`` basic blocks (widths w, 2w, 4w), GAP, FC."""

    def __init__(self, width=16, blocks=1, num_classes=10, mpo_convs=False, mpo_fc=False, bond_dim=4):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, width, 3, padding=1, bias=False), nn.BatchNorm2d(width), nn.ReLU())
        stages, cin = [], width
        for s, c in enumerate([width, 2 * width, 4 * width]):
            for b in range(blocks):
                stages.append(_Basic(cin, c, 2 if (s > 0 and b == 0) else 1, mpo_convs, bond_dim))
                cin = c
        self.stages = nn.Sequential(*stages)
        self.fc = _fc(cin, num_classes, mpo_fc, bond_dim)

    def forward(self, x):
        x = self.stages(self.stem(x))
        return self.fc(F.adaptive_avg_pool2d(x, 1).flatten(1))


class _DenseLayer(nn.Module):
    def __init__(self, cin, growth, mpo, bond_dim):
        super().__init__()
        self.bn = nn.BatchNorm2d(cin)
        self.conv = _conv(cin, growth, 3, padding=1, mpo=mpo, bond_dim=bond_dim, bias=False)

    def forward(self, x):
        return torch.cat([x, self.conv(F.relu(self.bn(x)))], 1)


class DenseNetSmall(nn.Module):
    """DenseNet-style: three dense blocks of ``layers`` 3x3 layers (growth ``growth``) with 1x1 transitions."""

    def __init__(self, growth=12, layers=4, num_classes=10, mpo_convs=False, mpo_fc=False, bond_dim=4):
        super().__init__()
        c = 2 * growth
        mods = [nn.Conv2d(3, c, 3, padding=1, bias=False)]
        for blk in range(3):
            for _ in range(layers):
                mods.append(_DenseLayer(c, growth, mpo_convs, bond_dim))
                c += growth
            if blk < 2:
                mods += [nn.BatchNorm2d(c), nn.ReLU(), nn.Conv2d(c, c // 2, 1, bias=False), nn.AvgPool2d(2)]
                c //= 2
        mods += [nn.BatchNorm2d(c), nn.ReLU()]
        self.features = nn.Sequential(*mods)
        self.fc = _fc(c, num_classes, mpo_fc, bond_dim)

    def forward(self, x):
        return self.fc(F.adaptive_avg_pool2d(self.features(x), 1).flatten(1))


def vgg_small(**kw):
    """A narrow VGG-style CIFAR-10 network (see :class:`VGGSmall`)."""
    return VGGSmall(**kw)


def resnet_small(**kw):
    """A narrow ResNet-style CIFAR-10 network (see :class:`ResNetSmall`)."""
    return ResNetSmall(**kw)


def densenet_small(**kw):
    """A narrow DenseNet-style CIFAR-10 network (see :class:`DenseNetSmall`)."""
    return DenseNetSmall(**kw)
