"""mmgrade: the mmlab autograder's package (see grader/grade.py and grader/README.md).

Modules, in the order a grading run uses them: rubric (load rubric.toml),
build (make the kernel), qemu (boot it with a time limit), ktap (read the
serial log), score (apply the rubric), exercises (the exercise behind a
stub that blocked an item), report / export (terminal table, Gradescope
JSON, JUnit XML), check (--check-rubric), grading and cli (glue); sources
reads the tree's KTESTs and stubs; status is the Status enum (what an item or a boot can end as);
mmfs is chapter 5's disk format on the host (also scripts/mmfs.py) and disk a boot's
image and the disk check.
"""
