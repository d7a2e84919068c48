"""Admin pages for template-owned tables: when each periodic task was last enqueued.

Deleting a row makes its task start again at its next due time; moving `due` back makes the
scheduler enqueue it once at its next pass (plumbing/schedule.py).
"""

from django.contrib import admin

from .models import ScheduledTask


@admin.register(ScheduledTask)
class ScheduledTaskAdmin(admin.ModelAdmin):
    list_display = ["task", "due", "enqueued_at"]
    ordering = ["task"]
    readonly_fields = ["task", "enqueued_at"]

    def has_add_permission(self, request):
        return False  # the scheduler adds a row when it first meets a task
