"""The one error of the clustering app, so every module can raise it without importing another."""


class ClusteringError(Exception):
    """A reclustering could not run or a model could not be used; the message says why."""
