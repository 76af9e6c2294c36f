from rest_framework.routers import SimpleRouter

from assessments.api import views

router = SimpleRouter()
router.register("scores", views.ScoreViewSet, basename="score")

urlpatterns = router.urls
