"""The knowledge base (human-editable YAML: ``data/*.yaml`` entries, ``intents.yaml``,
``lexicon.yaml``, ``smalltalk.yaml``, ``elsewhere.yaml``) and answer retrieval.

``kb`` loads and renders entries with the policy year's figures; ``normalize`` and ``match``
rank entries and intents for a question; ``answer`` turns a match into an answer, a
clarifying choice or the hotline fallback; ``misses`` groups the questions nobody answered;
``lint``, ``export`` and ``evaluate`` are the hotline team's tools for the knowledge base.
"""
