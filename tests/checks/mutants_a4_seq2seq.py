"""Realistic bugs in a4_seq2seq (patches of the reference), with the checks each must fail."""

from tests.checks.grading import Mutant

_STEP = """            h = state[0] if isinstance(state, tuple) else state  # (L, B, H)
            query = h[-1].unsqueeze(1)  # (B, 1, H): the top layer
            context, alpha = self.attention(query, enc_outputs, enc_outputs, mask)  # (B,1,H), (B,1,S)
            rnn_input = torch.cat([context, embedded[:, t : t + 1]], dim=-1)  # (B, 1, H + E)
            output, state = self.rnn(rnn_input, state)  # (B, 1, H)
"""

MUTANTS = [
    # --- teacher forcing -------------------------------------------------------------------------
    Mutant("tf_feeds_targets",
           [("logits, _, _ = self.decoder(tgt_in, state, enc_outputs, src_mask)",
             "logits, _, _ = self.decoder(torch.cat([tgt_in[:, 1:], tgt_in[:, :1] * 0], 1), state, enc_outputs, "
             "src_mask)")],
           fails={"test_seq2seq_values", "test_public_teacher_forcing"},
           note="forward feeds the next tokens (tgt_in shifted left, i.e. the targets) to the decoder"),
    Mutant("tf_shifted_again",
           [("logits, _, _ = self.decoder(tgt_in, state, enc_outputs, src_mask)",
             "logits, _, _ = self.decoder(torch.cat([tgt_in[:, :1], tgt_in[:, :-1]], 1), state, enc_outputs, "
             "src_mask)")],
           fails={"test_seq2seq_values", "test_public_teacher_forcing"},
           note="forward shifts tgt_in right once more (prepends its first token, drops the last)"),
    # --- loss --------------------------------------------------------------------------------------
    Mutant("loss_counts_pad", [("return total / count", "return total / flat_targets.numel()")],
           fails={"test_sequence_loss", "test_public_sequence_loss"},
           note="sequence_loss divides by every token, pad included"),
    Mutant("loss_mean_with_pad",
           [('total = F.cross_entropy(logits.reshape(-1, V), flat_targets, ignore_index=pad_id, reduction="sum")',
             "total = F.cross_entropy(logits.reshape(-1, V), flat_targets)"),
            ("return total / count", "return total")],
           fails={"test_sequence_loss", "test_public_sequence_loss"},
           note="sequence_loss scores pad targets as a class and averages over all tokens"),
    Mutant("loss_nan_all_pad",
           [("count = (flat_targets != pad_id).sum().clamp(min=1)", "count = (flat_targets != pad_id).sum()")],
           fails={"test_sequence_loss", "test_public_sequence_loss"},
           note="sequence_loss is 0/0 = NaN when every target is pad"),
    Mutant("loss_not_differentiable",
           [("return total / count", "return torch.tensor((total / count).item(), dtype=logits.dtype)")],
           fails={"test_sequence_loss_gradient"},
           note="sequence_loss rebuilds the value from .item(): no gradient"),
    # --- encoder -----------------------------------------------------------------------------------
    Mutant("enc_state_after_padding",
           [("packed_outputs, state = self.rnn(packed)  # state in the original batch order",
             "packed_outputs, _ = self.rnn(packed)\n        _, state = self.rnn(embedded)")],
           fails={"test_encoder_values", "test_encoder_padding", "test_public_encoder_vs_torch",
                  "test_public_padding_invariance"},
           note="the final state is taken after the last column (the RNN also runs over the padding)"),
    Mutant("enc_outputs_not_zeroed",
           [("outputs, _ = pad_packed_sequence(packed_outputs, batch_first=True, total_length=S)  # (B, S, H)",
             "outputs = self.rnn(embedded)[0]  # the unpacked run: not 0 at padding")],
           fails={"test_encoder_values", "test_encoder_padding", "test_public_encoder_vs_torch"},
           note="encoder outputs come from a run over the padded batch: not 0 at padding"),
    # --- attention decoder -------------------------------------------------------------------------
    Mutant("attn_unmasked",
           [("context, alpha = self.attention(query, enc_outputs, enc_outputs, mask)",
             "context, alpha = self.attention(query, enc_outputs, enc_outputs, None)")],
           fails={"test_attention_decoder_values", "test_public_attention_weights",
                  "test_public_padding_invariance", "test_seq2seq_values"},
           note="the attention ignores src_mask"),
    Mutant("attn_query_after_step",
           [(_STEP, """            if t == 0:
                context = enc_outputs.new_zeros(B, 1, self.hidden_size)
            rnn_input = torch.cat([context, embedded[:, t : t + 1]], dim=-1)
            output, state = self.rnn(rnn_input, state)
            context, alpha = self.attention(output, enc_outputs, enc_outputs, mask)
""")],
           fails={"test_attention_decoder_values", "test_public_attention_data"},
           note="the query is the step's new hidden state (the previous step's context is fed in)"),
    Mutant("attn_concat_order",
           [("rnn_input = torch.cat([context, embedded[:, t : t + 1]], dim=-1)",
             "rnn_input = torch.cat([embedded[:, t : t + 1], context], dim=-1)")],
           fails={"test_attention_decoder_values", "test_public_attention_data"},
           note="the rnn reads [embedding; context] instead of [context; embedding]"),
    Mutant("attn_lstm_query_c",
           [("h = state[0] if isinstance(state, tuple) else state  # (L, B, H)",
             "h = state[1] if isinstance(state, tuple) else state  # (L, B, H)")],
           fails={"test_attention_decoder_values"},
           note="an LSTM decoder attends with the cell state c instead of h"),
    Mutant("attn_softmax_wrong_axis",
           [("weights = torch.softmax(scores, dim=-1).masked_fill(~allowed, 0.0)",
             "weights = torch.softmax(scores, dim=1).masked_fill(~allowed, 0.0)")],
           fails={"test_attention_decoder_values", "test_public_attention_weights"},
           note="the attention's softmax runs over the query axis"),
    Mutant("dec_ignores_state",
           [("outputs, state = self.rnn(embedded, state)  # (B, T, H)",
             "outputs, state = self.rnn(embedded)  # (B, T, H)")],
           fails={"test_decoder_values", "test_public_decoder_vs_torch"},
           note="the plain decoder starts from zeros instead of the state passed in"),
    Mutant("detached_encoder_outputs",
           [("        return enc_outputs, state, src_mask\n",
             "        return enc_outputs.detach(), state, src_mask\n")],
           fails={"test_seq2seq_gradients"},
           note="Seq2Seq detaches the encoder outputs: the encoder gets gradients only through its state"),
    # --- greedy decoding ---------------------------------------------------------------------------
    Mutant("greedy_includes_bos", [("        tokens = []\n", "        tokens = [token[:, 0]]\n")],
           fails={"test_greedy_decode", "test_decode_format", "test_public_greedy_data"},
           note="greedy_decode's output starts with BOS"),
    Mutant("greedy_no_pad_after_eos",
           [("next_token = logits[:, -1].argmax(dim=-1).masked_fill(finished, 0)",
             "next_token = logits[:, -1].argmax(dim=-1)")],
           fails={"test_greedy_decode", "test_decode_format", "test_public_greedy_data"},
           note="finished rows keep generating tokens after EOS"),
    Mutant("greedy_no_stop",
           [("            if bool(finished.all()):\n                break\n", "")],
           fails={"test_greedy_decode", "test_decode_format", "test_public_greedy_data"},
           note="greedy_decode always runs max_len steps"),
    # --- beam search -------------------------------------------------------------------------------
    Mutant("beam_length_normalised",
           [("        best = history[:, 0]  # (B, steps)\n",
             "        n_tokens = (history != 0).sum(-1).clamp(min=1)  # (B, K)\n"
             "        best = history[torch.arange(B), (scores / n_tokens).argmax(dim=1)]\n")],
           fails={"test_beam_search"},
           note="beam search picks the final hypothesis by its length-normalised score"),
    Mutant("beam_extends_finished",
           [("log_probs = torch.where(finished.unsqueeze(-1), pad_only, log_probs)  # (B, K, V)",
             "log_probs = log_probs  # finished hypotheses are extended like the others")],
           fails={"test_beam_search", "test_public_beam_data"},
           note="finished hypotheses are extended by every token, not only by pad at cost 0"),
    Mutant("beam_returns_last",
           [("        best = history[:, 0]  # (B, steps)\n", "        best = history[:, -1]  # (B, steps)\n")],
           fails={"test_beam_search", "test_public_beam_data"},
           note="beam search returns the last (worst) beam instead of the best"),
]

# Mutants the public checks (no reference) catch too, graded with hidden=False: {mutant: public checks that fail}.
PUBLIC_CAUGHT = {
    "loss_nan_all_pad": {"test_public_sequence_loss"},
    "attn_softmax_wrong_axis": {"test_public_attention_weights"},
    "greedy_no_pad_after_eos": {"test_public_greedy_data"},
    "enc_state_after_padding": {"test_public_encoder_vs_torch", "test_public_padding_invariance"},
}

# (mutant, check, words): the check's message for that mutant names the bug with these words.
MESSAGES = [
    ("attn_softmax_wrong_axis", "test_public_attention_weights", ["softmax dimension"]),
    ("attn_softmax_wrong_axis", "test_attention_decoder_values", ["softmax dimension"]),
    ("attn_unmasked", "test_attention_decoder_values", ["src_mask"]),
    ("attn_unmasked", "test_public_attention_weights", ["padded", "src_mask"]),
    ("attn_concat_order", "test_attention_decoder_values", ["[context; embedding]"]),
    ("attn_lstm_query_c", "test_attention_decoder_values", ["cell state c"]),
    ("attn_query_after_step", "test_attention_decoder_values", ["before"]),
    ("enc_state_after_padding", "test_encoder_values", ["last real token"]),
    ("enc_outputs_not_zeroed", "test_encoder_values", ["0 at padded positions"]),
    ("loss_counts_pad", "test_sequence_loss", ["pad tokens are counted"]),
    ("loss_nan_all_pad", "test_public_sequence_loss", ["NaN"]),
    ("tf_feeds_targets", "test_public_teacher_forcing", ["earlier step"]),
    ("tf_feeds_targets", "test_seq2seq_values", ["shifted left"]),
    ("tf_shifted_again", "test_public_teacher_forcing", ["do not shift"]),
    ("greedy_includes_bos", "test_greedy_decode", ["BOS"]),
    ("greedy_no_pad_after_eos", "test_decode_format", ["after its EOS"]),
    ("greedy_no_stop", "test_decode_format", ["every row has produced EOS"]),
    ("detached_encoder_outputs", "test_seq2seq_gradients", ["encoder", "detach"]),
    ("dec_ignores_state", "test_decoder_values", ["initial state"]),
    ("dec_ignores_state", "test_public_decoder_vs_torch", ["initial state"]),
    ("beam_returns_last", "test_beam_search", ["best hypothesis"]),
    ("beam_length_normalised", "test_beam_search", ["length normalisation"]),
    ("beam_extends_finished", "test_beam_search", ["only by pad"]),
    ("loss_mean_with_pad", "test_public_sequence_loss", ["ignore"]),
]
