"""The web channel: a chat page for units (``chat``) and a console for the hotline team
(``console``), served by aiohttp (``server``) on the same engine as the terminal and
Telegram. ``security`` holds what every request goes through: signed cookies, the CSRF
double-submit check and the response headers (CSP)."""
