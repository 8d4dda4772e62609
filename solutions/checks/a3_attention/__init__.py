"""Hidden checks of a3_attention: attention scores, masks, multi-head attention, positional encoding."""
