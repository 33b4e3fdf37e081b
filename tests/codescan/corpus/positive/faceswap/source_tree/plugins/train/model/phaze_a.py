from ._base import ModelBase


class Model(ModelBase):
    """Phaze-A: a configurable shared-encoder, split-decoder face-swap model."""
