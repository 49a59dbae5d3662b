"""Helpers behind the notebooks in ``notebooks/``: runs, figures and animations, so notebook cells stay short.

``landscape``  2-D landscapes: one run with every worker's path, its figures and an HTML/JS animation
``training``   small networks on digits: several methods at equal sample budgets and their figures
``theory``     a theory check's record rendered as Markdown (takes the record; imports no check)

Nothing here imports ``theory_checks`` or ``figures`` (imports flow downward); the notebooks do.
"""
