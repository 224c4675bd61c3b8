"""The baseline the storefront API is measured against, on the same server and middleware."""

from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

PAYLOAD = {"shop": "bench.myshopify.com", "language": "en", "variants": []}


class BareView(APIView):
    """A constant JSON answer from DRF: what Django, DRF and gunicorn cost by themselves."""

    authentication_classes: list = []
    permission_classes: list = []
    renderer_classes = [JSONRenderer]

    def get(self, request: Request) -> Response:
        return Response(PAYLOAD)
