"""Static files storage: WhiteNoise's, with Brotli at quality 9 instead of 11.

collectstatic runs at every container start (Procfile). Measured by the template's benchmark
(docs/benchmarks.md in the template repository, not in this project):
quality 11 spent 5 of collectstatic's 7.5 s; quality 9 compresses the largest file (Swagger
UI, 1.5 MB) 17x faster, 9% larger than quality 11 and still 11% smaller than gzip -9.
Hashed files are sent with a ten-year immutable max-age (WhiteNoise's), so the extra bytes are
paid once per visitor.

The manifest (staticfiles.json, the name of every static file) is written next to STATIC_ROOT
rather than in it: WhiteNoise serves everything in STATIC_ROOT.
"""

from pathlib import Path

import brotli
from django.conf import settings
from django.core.files.storage import FileSystemStorage
from whitenoise.compress import Compressor
from whitenoise.storage import CompressedManifestStaticFilesStorage

BROTLI_QUALITY = 9


class FastBrotliCompressor(Compressor):
    @staticmethod
    def compress_brotli(data):
        return brotli.compress(data, quality=BROTLI_QUALITY)


def manifest_dir():
    return Path(settings.STATIC_ROOT).with_name("staticfiles-manifest")


class StaticFilesStorage(CompressedManifestStaticFilesStorage):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("manifest_storage", FileSystemStorage(location=manifest_dir()))
        super().__init__(*args, **kwargs)

    def create_compressor(self, **kwargs):
        return FastBrotliCompressor(**kwargs)
