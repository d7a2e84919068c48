from drf_spectacular.utils import extend_schema
from rest_framework.permissions import IsAdminUser
from rest_framework.views import APIView


class ErrorCheckView(APIView):
    """Staff only: raise an unhandled error, to see it reach the logs and Sentry after a deploy.

    Anyone else gets 401/403 like any protected endpoint: no public crash URL.
    """

    permission_classes = [IsAdminUser]

    @extend_schema(exclude=True)
    def get(self, request):
        raise RuntimeError("Error check: raised on purpose by GET /api/debug/error/")
