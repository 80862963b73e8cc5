"""course_grader: grade a class of notebook submissions safely.

Each submission runs in its own sandboxed process (``worker``), in a fresh folder, with a
wall-clock timeout and a memory cap; the hidden tests run in another process (``verdict``)
where no student code ever ran, and reach the student's answers only through a pipe that
carries plain values (tensors, numbers, strings) back. ``grade`` runs a class and writes one
CSV per assignment with a status and a reason for every notebook, and feedback that is safe
to hand back (public tests' messages; hidden tests: pass or fail and the points only).

The command line is ``scripts/assignments.py grade``.
"""
