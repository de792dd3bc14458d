"""mlnotes: the code of the mlnotes deep-learning course.

Import each topic from its module: ``from mlnotes.linear import LogisticRegression``,
``from mlnotes.core import seed_everything``.
"""

__version__ = "0.1.0"
