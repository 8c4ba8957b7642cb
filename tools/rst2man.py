#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""rst2man for the project's RST pages (make man, make install).

docutils' rst2man, plus the one Sphinx directive the pages use:
".. kernel-doc:: uapi/linux/vhost_shmem.h" with ":identifiers: A B". Sphinx
(make htmldocs) runs the kernel's kernel-doc for it; a man page gets, for
each identifier, its kernel-doc comment and definition exactly as the
header has them, as a literal block. No kernel source is needed. An
identifier the header does not document is an error, so the build
(--halt=warning) fails.

Usage: tools/rst2man.py [rst2man options] SOURCE.rst DEST.N
"""
import os
import re

from docutils import nodes
from docutils.core import default_description, publish_cmdline
from docutils.parsers.rst import Directive, directives
from docutils.writers import manpage

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def kernel_doc(path, ident):
    """The kernel-doc comment of @ident in @path and its definition."""
    with open(path, encoding='utf-8') as f:
        src = f.read()
    m = re.search(r'^/\*\*\n \* (?:struct|union|enum) ' + re.escape(ident) +
                  r' - .*?\*/\n(?:struct|union|enum) ' + re.escape(ident) +
                  r' \{\n.*?^\};$', src, re.S | re.M)
    return m.group(0).expandtabs(8) if m else None


class KernelDoc(Directive):
    required_arguments = 1
    option_spec = {'identifiers': directives.unchanged_required}

    def run(self):
        path = os.path.join(TOP, self.arguments[0])
        idents = self.options.get('identifiers', '').split()
        if not idents:
            raise self.error('kernel-doc: name the :identifiers: to include')
        out = []
        for ident in idents:
            text = kernel_doc(path, ident)
            if text is None:
                raise self.error('kernel-doc: no kernel-doc for %s in %s' %
                                 (ident, self.arguments[0]))
            out.append(nodes.literal_block(text, text))
        return out


directives.register_directive('kernel-doc', KernelDoc)
publish_cmdline(writer=manpage.Writer(),
                description='Generates plain unix manual documents. ' +
                default_description)
