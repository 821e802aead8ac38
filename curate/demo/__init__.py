"""``curate demo``: the whole loop on real text found on this machine.

- :mod:`curate.demo.loop`: the steps (curate, tokenizer, eval sets, sweep, training, answer).
- :mod:`curate.demo.corpus`: build the demo corpus from documentation installed on this machine.
"""
