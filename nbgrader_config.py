"""nbgrader configuration for instructors who run this course with nbgrader.

The nbgrader course lives in ``nbgrader-course/`` (gitignored), one assignment
per course notebook, in nbgrader's standard layout::

    nbgrader-course/source/00_warmup/00_warmup.ipynb        <- staged from solutions/
    nbgrader-course/release/00_warmup/00_warmup.ipynb       <- what students get (= exercises/)
    nbgrader-course/submitted/<student>/00_warmup/...       <- nbgrader collect
    nbgrader-course/autograded/<student>/00_warmup/...      <- nbgrader autograde
    nbgrader-course/feedback/<student>/00_warmup/...        <- nbgrader generate_feedback
    nbgrader-course/gradebook.db

Stage the solutions with ``python -m course_lib.grading nbgrader-source``; the
full list of commands is in docs/instructors.md. Run nbgrader from the
repository root so that it finds this file.
"""

from pathlib import Path

c = get_config()  # noqa: F821 - provided by nbgrader when it loads this file

c.CourseDirectory.course_id = "gan-image-manipulation"
c.CourseDirectory.root = str(Path(__file__).resolve().parent / "nbgrader-course")
c.CourseDirectory.source_directory = "source"
c.CourseDirectory.release_directory = "release"
c.CourseDirectory.submitted_directory = "submitted"
c.CourseDirectory.autograded_directory = "autograded"
c.CourseDirectory.feedback_directory = "feedback"

# GAN cells train for minutes on a laptop CPU: nbgrader's default of 30 s per cell is too short.
c.Execute.timeout = 900
c.ExecutePreprocessor.timeout = 900
c.Execute.interrupt_on_timeout = True  # a cell that runs too long fails; the rest still run

