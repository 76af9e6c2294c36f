from rest_framework.routers import SimpleRouter

from classrooms.api import views

router = SimpleRouter()
router.register("districts", views.DistrictViewSet, basename="district")
router.register("schools", views.SchoolViewSet, basename="school")
router.register("academic-years", views.AcademicYearViewSet, basename="academic-year")
router.register("terms", views.TermViewSet, basename="term")
router.register("classrooms", views.ClassroomViewSet, basename="classroom")
router.register("student-groups", views.StudentGroupViewSet, basename="student-group")
router.register("students", views.StudentViewSet, basename="student")
router.register("enrollments", views.EnrollmentViewSet, basename="enrollment")
router.register("users", views.UserViewSet, basename="user")

urlpatterns = router.urls
