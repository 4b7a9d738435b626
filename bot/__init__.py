"""The shells: the terminal and Telegram channels and the ``hubao`` command line."""
