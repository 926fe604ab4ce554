"""Reads for the error pages, one module per page: overview (home), global_view,
list_page, sites, trends, explanations (log samples and procedures) and workflow (the
workflow page's error tables), with two shared by several pages: pies (the pie data and the
palettes that give a value one colour) and site_context (each site's status, failure share
and trend; the workflow page's verdict). They return data; the HTML lives in the templates, in
errors/templatetags/error_charts.py and errors/charts.py. Every function runs a fixed
number of queries, whatever the size of the snapshot; heavy sums run in the database."""
