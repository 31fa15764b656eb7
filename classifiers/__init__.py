"""Prompt content classifiers: entities by pattern and by Presidio/spaCy NER, document scorers, label rules.

Presidio's e-mail recognizer validates domains with tldextract, which downloads the public suffix list on first
use unless told not to; this is set before any submodule can import Presidio, so a collector without internet
access never stalls on it and uses tldextract's bundled snapshot.
"""

import os

os.environ.setdefault("TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS", "")
