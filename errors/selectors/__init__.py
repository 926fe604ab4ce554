"""Reads for the error pages, one module per page: overview (home), global_view,
list_page, sites, trends, explanations (log samples and procedures) and workflow (the
workflow page's error tables). They return data; the HTML lives in the templates, in
errors/templatetags/error_charts.py and errors/charts.py. Every function runs a fixed
number of queries, whatever the size of the snapshot; heavy sums run in the database."""
