import torch.nn as nn


class Generator_Adain_Upsample(nn.Module):
    pass
