from core.leras import nn
from models import ModelBase


class SAEHDModel(ModelBase):
    pass


Model = SAEHDModel
