/** The subset of the Alertmanager configuration schema this repo renders (Alertmanager >= 0.25). */
export interface AlertmanagerRoute {
  receiver?: string;
  matchers?: string[];
  group_by?: string[];
  group_wait?: string;
  group_interval?: string;
  repeat_interval?: string;
  continue?: boolean;
  mute_time_intervals?: string[];
  active_time_intervals?: string[];
  routes?: AlertmanagerRoute[];
}

export interface PagerdutyConfig {
  routing_key_file: string;
  url?: string;
  send_resolved?: boolean;
  severity?: string;
  description?: string;
  client?: string;
  client_url?: string;
  links?: { href: string; text: string }[];
  details?: Record<string, string>;
}

export interface SlackConfig {
  api_url_file: string;
  channel: string;
  send_resolved?: boolean;
  title?: string;
  title_link?: string;
  text?: string;
}

export interface EmailConfig {
  to: string;
  send_resolved?: boolean;
  headers?: Record<string, string>;
}

export interface WebhookConfig {
  url: string;
  send_resolved?: boolean;
  http_config?: { authorization?: { type: string; credentials_file: string } };
}

export interface Receiver {
  name: string;
  pagerduty_configs?: PagerdutyConfig[];
  slack_configs?: SlackConfig[];
  email_configs?: EmailConfig[];
  webhook_configs?: WebhookConfig[];
}

export interface InhibitRule {
  source_matchers: string[];
  target_matchers: string[];
  equal: string[];
}

export interface TimeInterval {
  name: string;
  time_intervals: {
    weekdays?: string[];
    times?: { start_time: string; end_time: string }[];
    location?: string;
  }[];
}

export interface AlertmanagerConfig {
  global: {
    resolve_timeout?: string;
    smtp_smarthost?: string;
    smtp_from?: string;
    smtp_auth_username?: string;
    smtp_auth_password_file?: string;
    smtp_require_tls?: boolean;
  };
  route: AlertmanagerRoute;
  receivers: Receiver[];
  inhibit_rules: InhibitRule[];
  time_intervals: TimeInterval[];
}
