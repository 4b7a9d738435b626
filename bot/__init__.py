"""The shells: the terminal and Telegram channels and the ``hubao`` command line.

``settings`` owns every ``HUBAO_*`` variable; ``bootstrap`` is the one place the engine and
its services are built; ``cli`` (with ``cli_io`` and ``cli_faq``) is the command line, which
catches ``HubaoError`` once; ``terminal`` (with ``console`` and ``files``) is the terminal
chat; ``roster_cli`` the roster commands; ``logs`` logging with personal data masked;
``telegram/`` the Telegram channel on python-telegram-bot or aiogram.
"""
