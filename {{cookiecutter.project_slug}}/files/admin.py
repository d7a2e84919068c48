from django.contrib import admin

from .models import File


@admin.register(File)
class FileAdmin(admin.ModelAdmin):
    list_display = ["name", "owner", "content_type", "size", "created_at"]
    list_filter = ["content_type"]
    search_fields = ["name", "owner__username"]
    readonly_fields = ["owner", "file", "name", "content_type", "size", "created_at"]
    list_select_related = ["owner"]

    def has_add_permission(self, request):
        return False  # uploads go through the API, which checks size and type
