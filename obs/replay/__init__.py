"""Replay: send a recorded call again, as it was or changed (``call``), to a provider (``providers``), one call or
a batch (``runs``), and compare the answers (``compare``, ``report``)."""
