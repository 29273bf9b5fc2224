"""API tokens: list your own (administrators: all), issue one (shown once), revoke one."""

from typing import Any

from django.contrib.auth import get_user_model
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.api.serializers import (
    ApiTokenIssuedSerializer,
    ApiTokenIssueSerializer,
    ApiTokenRevokeSerializer,
    ApiTokenSerializer,
)
from accounts.models import ApiToken
from accounts.selectors import api_tokens_visible_to
from accounts.services import api_token_issue, api_token_revoke
from haetae.errors import NotFound


class ApiTokenViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """Your API tokens. The token itself is shown only in the answer that issues it."""

    serializer_class = ApiTokenSerializer
    queryset = ApiToken.objects.none()  # names the model for the OpenAPI schema; get_queryset filters

    def get_queryset(self) -> Any:
        return api_tokens_visible_to(user=self.request.user)  # type: ignore[arg-type]

    @extend_schema(request=ApiTokenIssueSerializer, responses={201: ApiTokenIssuedSerializer})
    def create(self, request: Request) -> Response:
        body = ApiTokenIssueSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        user: Any = request.user
        if body.validated_data.get("user"):
            user = get_user_model().objects.filter(username=body.validated_data["user"]).first()
            if user is None or (user.pk != request.user.pk and not request.user.is_superuser):
                raise NotFound(f"no user {body.validated_data['user']!r} whose tokens you may manage")
        row, token = api_token_issue(
            user=user,
            actor=request.user,  # type: ignore[arg-type]
            name=body.validated_data["name"],
            days=body.validated_data.get("days"),
        )
        issued = ApiTokenIssuedSerializer(row, context={"token": token})
        return Response(issued.data, status=status.HTTP_201_CREATED, headers={"Cache-Control": "no-store"})

    @extend_schema(request=ApiTokenRevokeSerializer, responses={200: ApiTokenSerializer})
    @action(detail=True, methods=["post"])
    def revoke(self, request: Request, pk: str | None = None) -> Response:
        body = ApiTokenRevokeSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        token = self.get_queryset().filter(pk=pk).first()
        if token is None:
            raise NotFound(f"no token {pk} among yours")
        revoked = api_token_revoke(token=token, actor=request.user, reason=body.validated_data["reason"])  # type: ignore[arg-type]
        return Response(ApiTokenSerializer(revoked).data)
