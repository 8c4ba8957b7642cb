# SPDX-License-Identifier: GPL-2.0
#
# Sphinx configuration of the project's documentation: "make htmldocs"
# (tools/htmldocs.sh) builds it into build/htmldocs, warnings as errors.
# The kernel-doc directive is the kernel's own Sphinx extension
# (Documentation/sphinx/kerneldoc.py with scripts/kernel-doc, from Debian's
# linux-source-6.12); tools/htmldocs.sh extracts them into a cache and
# names that directory in VHOST_SHMEM_KERNELDOC.
import os
import sys

kerneldoc_dir = os.environ.get('VHOST_SHMEM_KERNELDOC')
if not kerneldoc_dir:
    sys.exit('Documentation/conf.py: VHOST_SHMEM_KERNELDOC is not set; '
             'build with "make htmldocs"')
sys.path.insert(0, kerneldoc_dir)

project = 'vhost-shmem'
copyright = 'vhost-shmem developers, GPL-2.0'
with open(os.path.join(os.path.dirname(__file__), '..', 'VERSION')) as f:
    version = release = f.read().strip()

extensions = ['kerneldoc']
kerneldoc_bin = os.path.join(kerneldoc_dir, 'kernel-doc')
# Paths in kernel-doc directives are relative to the top of the tree.
kerneldoc_srctree = os.path.abspath(os.path.join(os.path.dirname(__file__), '..'))
kerneldoc_verbosity = 1

root_doc = 'index'
# Included by performance/vhost-shmem.rst, not a page of its own.
exclude_patterns = ['performance/vhost-shmem-results.rst']
primary_domain = 'c'
highlight_language = 'none'

html_theme = 'alabaster'
html_title = 'vhost-shmem ' + release
html_copy_source = False
