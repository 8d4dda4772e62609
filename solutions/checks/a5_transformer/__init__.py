"""Hidden checks of a5_transformer: the encoder and decoder layers, the Transformer, greedy decoding."""
