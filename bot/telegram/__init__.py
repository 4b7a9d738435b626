"""The Telegram channel, whichever library runs it.

``ptb_bot`` (python-telegram-bot, the default) and ``aiogram_bot`` each implement ``BotApi``
(``api``: the handful of Bot API calls hubao makes) and hand their library's updates to the
one event builder (``events``). Everything a user can notice lives once in the modules
shared by both: the settings (``config``), replies as HTML with inline keyboards
(``render``), per-chat ordering, flood control and upload caps (``channel``), the admin
commands (``reports``) and the webhook endpoint (``webhook``). ``cli`` is the
``hubao telegram`` command. So both libraries behave the same by construction.

Nothing is imported here: ``hubao`` registers the command without loading aiohttp.
"""
