from django.apps import AppConfig


class ClassroomsConfig(AppConfig):
    name = "classrooms"
    verbose_name = "Districts, schools and classrooms"

    def ready(self) -> None:
        # Ends API tokens when a password changes or a person is deactivated.
        from classrooms.signin import credentials  # noqa: F401
