"""DRF authentication by API token ("Authorization: Token …"), checked against stored SHA-256 digests."""

from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.request import Request

from accounts.services import api_token_check
from haetae.errors import RejectedInput


class HashedTokenAuthentication(BaseAuthentication):
    """The same header as DRF's TokenAuthentication; the token must be known, unexpired and unrevoked."""

    keyword = "Token"

    def authenticate(self, request: Request) -> tuple[Any, Any] | None:
        parts = get_authorization_header(request).split()
        if not parts or parts[0].lower() != self.keyword.lower().encode():
            return None
        if len(parts) != 2:
            raise AuthenticationFailed(
                'send the header as "Authorization: Token <token>", one token, no spaces'
            )
        try:
            token = parts[1].decode("ascii")
        except UnicodeError:
            raise AuthenticationFailed("invalid token: it has characters no token has") from None
        try:
            row = api_token_check(token)
        except RejectedInput as exc:
            raise AuthenticationFailed(exc.message) from None
        return row.user, row

    def authenticate_header(self, request: Request) -> str:
        return self.keyword


class HashedTokenScheme(OpenApiAuthenticationExtension):
    """Describes HashedTokenAuthentication in the OpenAPI schema."""

    target_class = "accounts.authentication.HashedTokenAuthentication"
    name = "tokenAuth"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": 'Token-based: "Token <token>"',
        }
