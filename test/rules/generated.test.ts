/**
 * What the rule catalog generates is what is committed: the Prometheus rules file (promtool checks
 * and unit-tests it: prometheus/check.sh, the stack test) and the alert reference with its
 * runbook. An edit to either file by hand, or a catalog change without `npm run rules`, fails here.
 */
import fs from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/core/config.js';
import { RULES, ruleSettings, runbookUrl } from '../../src/rules/catalog.js';
import { ALERTS_DOC, RULES_FILE, alertsDoc, rulesYaml } from '../../scripts/rules.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
const defaults = ruleSettings(loadConfig({}).config);
const read = (file: string): string => fs.readFileSync(path.join(ROOT, file), 'utf8');

describe('the generated rule files', () => {
  it('commits the Prometheus rules the catalog makes from the default thresholds', () => {
    expect(read(RULES_FILE)).toBe(rulesYaml(defaults));
  });

  it('commits the alert reference and runbook the catalog makes', () => {
    expect(read(ALERTS_DOC)).toBe(alertsDoc(defaults));
  });

  it('puts each threshold from the configuration into the expressions', () => {
    const custom = { ...defaults, dailyLossWarning: 0.07, dailyLossCritical: 0.09, staleAfterSeconds: 300 };
    const alerts = new Map<string, { expr: string; annotations: Record<string, string> }>();
    for (const group of parse(rulesYaml(custom)).groups) for (const rule of group.rules) if (rule.alert) alerts.set(rule.alert, rule);
    expect(alerts.get('PolymarketBotDailyLossWarning')!.expr).toMatch(/>= 0\.07\s*$/);
    expect(alerts.get('PolymarketBotDailyLossCritical')!.annotations.description).toContain('9%');
    expect(alerts.get('PolymarketBotWalletScansStale')!.expr).toMatch(/> 300\s*$/);
    expect(alerts.get('PolymarketBotWalletScansStalled')!.expr).toContain('> 1200');
    expect(alerts.get('PolymarketBotWalletScansStale')!.annotations.summary).toBe('No successful wallet scan for more than 5 minutes.');
  });

  it('names every Prometheus alert after a catalog rule, with a runbook section at its URL', () => {
    const doc = read(ALERTS_DOC);
    const fileAlerts: { alert: string; labels: Record<string, string>; annotations: Record<string, string> }[] = [];
    for (const group of parse(read(RULES_FILE)).groups) for (const rule of group.rules) if (rule.alert) fileAlerts.push(rule);
    expect(fileAlerts.map((a) => a.alert).sort()).toEqual(RULES.filter((r) => 'prometheus' in r).map((r) => r.name).sort());
    for (const alert of fileAlerts) {
      expect(alert.annotations.runbook_url).toBe(runbookUrl(alert.alert));
      expect(doc).toContain(`<a id="runbook-${alert.alert.toLowerCase()}"></a>`);
    }
  });

  it('labels in_process exactly the alerts the plugin also sends itself', () => {
    for (const group of parse(read(RULES_FILE)).groups) {
      for (const rule of group.rules) {
        if (!rule.alert) continue;
        const def = RULES.find((r) => r.name === rule.alert)!;
        expect(rule.labels.in_process === 'true', rule.alert).toBe('inProcess' in def || 'event' in def);
      }
    }
  });
});
