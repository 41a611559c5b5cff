"""mmlab's student handout tool (run as scripts/handout.py; the marker format and the modes are documented there).

Modules, along its jobs: markers (parse LAB BEGIN/STUB/END), render (a
source and the README section as a handout has them), tree (the reference
tree; writing a handout), rubric (the rubric's [[chN.exercise]] order),
check (--check: build and grade every chapter's handout, through the
grader's own package mmgrade), progress (--progress: which items each
exercise turns green), cli (the command line); grader brings in the
grader's package (grader/mmgrade) that check and progress grade with, and
errors holds the exceptions.
"""
