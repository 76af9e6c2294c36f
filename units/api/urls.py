from rest_framework.routers import SimpleRouter

from units.api import views

router = SimpleRouter()
router.register("units", views.UnitViewSet, basename="unit")
router.register("classroom-units", views.ClassroomUnitViewSet, basename="classroom-unit")

urlpatterns = router.urls
