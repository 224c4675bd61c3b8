"""The two baselines the webhook endpoint is measured against, on the same server and middleware."""

from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt

TABLE = "bench_webhook_insert"
CREATE_TABLE = (
    f"CREATE TABLE IF NOT EXISTS {TABLE} "
    "(id bigserial PRIMARY KEY, received_at timestamptz NOT NULL, body text NOT NULL)"
)


@csrf_exempt
def bare(request: HttpRequest) -> HttpResponse:
    """Read the body, answer JSON: what Django and gunicorn cost by themselves."""
    return JsonResponse({"ok": True, "bytes": len(request.body)})


@csrf_exempt
def insert(request: HttpRequest) -> HttpResponse:
    """One INSERT of the body, committed (autocommit): the floor for receiving durably."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {TABLE} (received_at, body) VALUES (%s, %s)",
            [timezone.now(), request.body.decode("utf-8", errors="replace")],
        )
    return HttpResponse(status=200)
