"""One folder per domain: shopify (pull and raw load), dbt (canonical and finance models), finance (ERP export)."""
