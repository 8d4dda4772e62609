# nbgrader's settings in every student's server (the Assignments tab) and terminal.
c = get_config()  # noqa: F821
c.CourseDirectory.course_id = "$course_id"
c.Exchange.root = "$exchange"
