# nbgrader's settings in the instructor's server (formgrader, the course list) and terminal.
c = get_config()  # noqa: F821
# The course folder made by `seqgrade nbgrader init`, and its own settings (course id, exchange,
# feedback without hidden tests), which formgrader reads from here.
c.CourseDirectory.root = "$course_dir"
load_subconfig("nbgrader_config.py", path="$course_dir")  # noqa: F821
