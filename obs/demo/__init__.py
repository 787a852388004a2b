"""The offline demo: a demo provider (an OpenAI-compatible server on loopback) and a demo app that uses obs."""
