"""Admin pages for template-owned tables: when each periodic task was last enqueued, and which
usernames failed logins have locked.

Deleting a scheduled task's row makes it start again at its next due time; moving `due` back
makes the scheduler enqueue it once at its next pass (plumbing/schedule.py). Lifting a login
lock, or deleting its row, lets the username log in at once (plumbing/lockout.py).
"""

from django.contrib import admin, messages

from .lockout import lift
from .models import LoginLock, ScheduledTask


@admin.register(ScheduledTask)
class ScheduledTaskAdmin(admin.ModelAdmin):
    list_display = ["task", "due", "enqueued_at"]
    ordering = ["task"]
    readonly_fields = ["task", "enqueued_at"]

    def has_add_permission(self, request):
        return False  # the scheduler adds a row when it first meets a task


@admin.register(LoginLock)
class LoginLockAdmin(admin.ModelAdmin):
    list_display = ["username", "locked_at", "until", "active"]
    search_fields = ["username"]
    actions = ["lift_locks"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.display(boolean=True, description="Locked now")
    def active(self, lock):
        return lock.active

    @admin.action(description="Lift the selected locks", permissions=["delete"])
    def lift_locks(self, request, queryset):
        lifted = sum(lift(lock.username) for lock in queryset)
        self.message_user(request, f"Lifted {lifted} lock(s).", messages.SUCCESS)

    # Deleting a lock (its page, or "Delete selected") lifts it too.
    def delete_model(self, request, obj):
        lift(obj.username)

    def delete_queryset(self, request, queryset):
        for lock in queryset:
            lift(lock.username)
