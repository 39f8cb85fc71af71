# temporary torch-only stand-in (not committed)
import torch
def mps_contract(cores, features, out_position, engine="auto"):
    B = features.shape[0]
    L = features.new_ones(B, 1)
    j = 0
    for k, G in enumerate(cores):
        if k == out_position:
            W = torch.einsum("ba,ayc->byc", L, G)
            L = None
            break
        L = torch.einsum("ba,apc,bp->bc", L, G, features[:, j]); j += 1
    if out_position is None:
        return L
    R = features.new_ones(B, 1)
    jj = features.shape[1] - 1
    for G in reversed(cores[out_position + 1:]):
        R = torch.einsum("apc,bc,bp->ba", G, R, features[:, jj]); jj -= 1
    return torch.einsum("byc,bc->by", W, R)
