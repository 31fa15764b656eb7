// Cheap local checks for sensitive data, run in the page before anything leaves it (and loaded by the service
// worker through importScripts). Each finding has an entity (lower-case, the collector's entity_counts keys) and
// the label it implies. Patterns are deliberately strict (checksums, validity rules, entropy): a false alarm on a
// person's everyday prompt costs more trust than it buys.
(function (root) {
  "use strict";

  const digitsOnly = (value) => value.replace(/[^0-9]/g, "");

  function validSsn(value) {
    const d = digitsOnly(value);
    if (d.length !== 9) return false;
    const area = d.slice(0, 3);
    const group = d.slice(3, 5);
    const serial = d.slice(5);
    if (area === "000" || area === "666" || area[0] === "9" || group === "00" || serial === "0000") return false;
    if (new Set(d).size === 1) return false;
    return !["123456789", "078051120", "219099999"].includes(d);
  }

  function luhn(value) {
    const d = digitsOnly(value);
    if (d.length < 13 || d.length > 19 || new Set(d).size === 1) return false;
    let total = 0;
    for (let i = 0; i < d.length; i++) {
      let digit = Number(d[d.length - 1 - i]);
      if (i % 2 === 1) digit = digit > 4 ? digit * 2 - 9 : digit * 2;
      total += digit;
    }
    return total % 10 === 0;
  }

  function validIban(value) {
    const compact = value.replace(/\s+/g, "").toUpperCase();
    if (compact.length < 15 || compact.length > 34 || !/^[A-Z]{2}[0-9]{2}[A-Z0-9]+$/.test(compact)) return false;
    const rearranged = compact.slice(4) + compact.slice(0, 4);
    let remainder = 0;
    for (const char of rearranged) {
      const chunk = /[A-Z]/.test(char) ? String(char.charCodeAt(0) - 55) : char;
      for (const digit of chunk) remainder = (remainder * 10 + Number(digit)) % 97;
    }
    return remainder === 1;
  }

  function entropy(value) {
    const counts = new Map();
    for (const char of value) counts.set(char, (counts.get(char) || 0) + 1);
    let bits = 0;
    for (const n of counts.values()) bits -= (n / value.length) * Math.log2(n / value.length);
    return bits;
  }
  const random = (minimum) => (value) => entropy(value) >= minimum;

  // entity -> label; phone numbers are counted but carry no label alone (as in the collector's rules: a phone
  // number is what ordinary prompts contain; it is personal with a name or context, which needs the classifier).
  const RULES = [
    { entity: "us_ssn", label: "pii", regex: /\b\d{3}([- ])\d{2}\1\d{4}\b/g, check: validSsn },
    { entity: "email_address", label: "pii", regex: /\b[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}\b/g },
    { entity: "phone_number", label: null, regex: /(?<![\w+])(?:\+?1[ .-]?)?(?:\(\d{3}\) ?|\d{3}[ .-])\d{3}[ .-]\d{4}\b/g },
    { entity: "credit_card", label: "payment_card", regex: /\b\d(?:[ -]?\d){12,18}\b/g, check: luhn },
    { entity: "iban_code", label: "financial", regex: /\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]){11,30}\b/g, check: validIban },
    { entity: "private_key", label: "credentials", regex: /-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----/g },
    { entity: "aws_access_key", label: "credentials", regex: /\b(?:AKIA|ASIA)(?![A-Z2-7]*EXAMPLE)[A-Z2-7]{16}\b/g },
    {
      entity: "api_key",
      label: "credentials",
      // OpenAI and Anthropic (sk-, sk-proj-, sk-ant-), GitHub, GitLab, Slack, Stripe, Google.
      regex:
        /\b(?:sk-(?:proj-|ant-(?:api\d\d-)?)?[A-Za-z0-9_-]{20,}|gh[pousr]_[A-Za-z0-9]{36}|github_pat_[A-Za-z0-9_]{22,}|glpat-[A-Za-z0-9_-]{20}|xox[abposr]-[A-Za-z0-9-]{10,}|[sr]k_live_[A-Za-z0-9]{20,}|AIza[0-9A-Za-z_-]{35})(?![A-Za-z0-9_-])/g,
      check: random(3.5),
    },
  ];

  const LABEL_ORDER = ["pii", "phi", "payment_card", "financial", "legal", "credentials"];

  /** Every validated match: [{entity, label, start, end}], in text order, overlapping card/SSN spans resolved. */
  function scan(text) {
    const matches = [];
    if (!text) return matches;
    for (const rule of RULES) {
      rule.regex.lastIndex = 0;
      for (const m of text.matchAll(rule.regex)) {
        if (rule.check && !rule.check(m[0])) continue;
        matches.push({ entity: rule.entity, label: rule.label, start: m.index, end: m.index + m[0].length });
      }
    }
    matches.sort((a, b) => a.start - b.start || b.end - a.end);
    const kept = [];
    for (const m of matches) {
      const last = kept[kept.length - 1];
      if (last && m.start < last.end) {
        // A phone-shaped run inside a card number (or the like) is the card; keep the labelled, longer one.
        if (!last.label && m.label) kept[kept.length - 1] = m;
        continue;
      }
      kept.push(m);
    }
    return kept;
  }

  /** {labels, entity_counts, matches} for a text. */
  function analyse(text) {
    const matches = scan(text);
    const counts = {};
    const labels = new Set();
    for (const m of matches) {
      counts[m.entity] = (counts[m.entity] || 0) + 1;
      if (m.label) labels.add(m.label);
    }
    return { labels: LABEL_ORDER.filter((l) => labels.has(l)), entity_counts: counts, matches };
  }

  /** The text with every labelled match replaced by [REDACTED]. */
  function redact(text) {
    let out = "";
    let at = 0;
    for (const m of scan(text)) {
      if (!m.label) continue;
      out += text.slice(at, m.start) + "[REDACTED]";
      at = m.end;
    }
    return out + text.slice(at);
  }

  // Least to most restrictive: the strictest action over a text's labels applies.
  const ACTION_ORDER = ["allow", "monitor", "warn", "justify", "redact", "redirect", "block"];

  /** The action for a tool status and a set of labels under the policy's action table. */
  function decide(policy, status, labels) {
    const table = (policy && policy.actions && policy.actions[status]) || {};
    let action = "allow";
    for (const label of labels) {
      const candidate = table[label] || "allow";
      if (ACTION_ORDER.indexOf(candidate) > ACTION_ORDER.indexOf(action)) action = candidate;
    }
    return action;
  }

  root.ShadowScopeDetect = { analyse, redact, decide, validSsn, luhn, validIban, ACTION_ORDER };
})(typeof globalThis !== "undefined" ? globalThis : this);
