"""manage.py api_token issue USER [--days N] [--name NAME] | list [USER] | revoke ID | revoke --user USER"""

from typing import Any

from accounts.models import ApiToken
from accounts.services import api_token_issue, api_token_revoke
from haetae.cli import HaetaeCommand
from haetae.errors import NotFound, UsageError


class Command(HaetaeCommand):
    """Issue an API token (printed only this once; only its SHA-256 is stored), list tokens, or revoke one or
    all of a user's. Run by the operator, it is recorded as account activity with no acting user."""

    def add_arguments(self, parser: Any) -> None:
        sub = parser.add_subparsers(dest="verb", required=True)
        issue = sub.add_parser("issue", help="issue a token for USER and print it once")
        issue.add_argument("username")
        issue.add_argument(
            "--days", type=int, default=None, help="lifetime in days (default HAETAE_API_TOKEN_DAYS)"
        )
        issue.add_argument("--name", default="", help="what the token is for, e.g. 'nightly export script'")
        issue.add_argument("--json", action="store_true", help="print one JSON object")
        listing = sub.add_parser("list", help="list tokens (never the tokens themselves)")
        listing.add_argument("username", nargs="?")
        listing.add_argument("--json", action="store_true", help="print one JSON object")
        revoke = sub.add_parser("revoke", help="revoke one token by id, or every active token of --user")
        revoke.add_argument("id", nargs="?", type=int)
        revoke.add_argument("--user", dest="of_user", default=None)
        revoke.add_argument("--reason", default="")
        revoke.add_argument("--json", action="store_true", help="print one JSON object")

    def handle(self, *args: Any, **options: Any) -> None:
        getattr(self, f"_{options['verb']}")(options)

    def _issue(self, options: dict[str, Any]) -> None:
        user = self.get_actor(options["username"])
        row, token = api_token_issue(user=user, actor=None, name=options["name"], days=options["days"])
        if options["json"]:
            self.emit_json(
                {"id": row.pk, "username": user.username, "token": token, "expires_at": row.expires_at}
            )
            return
        self.stdout.write(
            f"token {row.pk} for {user.username}, valid until {row.expires_at:%Y-%m-%d %H:%M} UTC. "
            f"Shown only now; Haetae keeps only its SHA-256:\n{token}\n"
            'Use it as the header "Authorization: Token <token>"; revoke it with manage.py api_token revoke '
            f"{row.pk}."
        )

    def _list(self, options: dict[str, Any]) -> None:
        tokens = ApiToken.objects.select_related("user").order_by("user__username", "-created_at")
        if options["username"]:
            tokens = tokens.filter(user=self.get_actor(options["username"]))
        rows = [
            {
                "id": t.pk,
                "username": t.user.username,
                "prefix": t.prefix,
                "name": t.name,
                "state": t.state,
                "expires_at": t.expires_at,
                "last_used_at": t.last_used_at,
            }
            for t in tokens
        ]
        if options["json"]:
            self.emit_json(rows)
            return
        for r in rows:
            self.stdout.write(
                f"{r['id']:>5}  {r['username']:<20} {r['prefix']}…  {r['state']:<8} "
                f"until {r['expires_at']:%Y-%m-%d}  {r['name']}"
            )

    def _revoke(self, options: dict[str, Any]) -> None:
        if (options["id"] is None) == (options["of_user"] is None):
            raise UsageError("name one token id, or --user USERNAME for all of a user's active tokens")
        if options["id"] is not None:
            token = ApiToken.objects.select_related("user").filter(pk=options["id"]).first()
            if token is None:
                raise NotFound(f"no token {options['id']}: see manage.py api_token list")
            targets = [token]
        else:
            user = self.get_actor(options["of_user"])
            targets = list(ApiToken.objects.select_related("user").filter(user=user, revoked_at__isnull=True))
        revoked = [api_token_revoke(token=t, actor=None, reason=options["reason"]).pk for t in targets]
        if options["json"]:
            self.emit_json({"revoked": revoked})
        else:
            self.stdout.write(
                f"revoked {len(revoked)} token(s): {', '.join(map(str, revoked)) or 'none active'}"
            )
