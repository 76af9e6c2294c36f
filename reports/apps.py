from django.apps import AppConfig


class ReportsConfig(AppConfig):
    name = "reports"
    verbose_name = "Growth reports"

    def ready(self) -> None:
        # Reports sits on top of assessments: it listens to what a score save announces, so the
        # save never imports reports (the layers contract in pyproject.toml).
        from assessments.signals import scores_changed
        from reports import receivers

        scores_changed.connect(
            receivers.growth_mark_stale_on_scores_changed,
            dispatch_uid="reports.growth_mark_stale_on_scores_changed",
        )
