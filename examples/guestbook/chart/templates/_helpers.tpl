{{/*
Chart name, overridable.
*/}}
{{- define "guestbook.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Fully qualified app name. DeployTag keeps release names within Helm's 53 characters,
so this stays a valid DNS label (63).
*/}}
{{- define "guestbook.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{/*
Chart name and version, as used by the helm.sh/chart label.
*/}}
{{- define "guestbook.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
The Kubernetes recommended labels.
*/}}
{{- define "guestbook.labels" -}}
helm.sh/chart: {{ include "guestbook.chart" . }}
{{ include "guestbook.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: guestbook
{{- end }}

{{/*
Selector labels: stable for the release's lifetime (a Deployment's selector is immutable).
*/}}
{{- define "guestbook.selectorLabels" -}}
app.kubernetes.io/name: {{ include "guestbook.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: web
{{- end }}

{{/*
The ServiceAccount the pods run as.
*/}}
{{- define "guestbook.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "guestbook.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/*
Host of the Redis the app uses: the subchart's Service (the name comes from the
subchart's own helper, so the two can never disagree), else an external host, else empty.
*/}}
{{- define "guestbook.redisHost" -}}
{{- if .Values.redis.enabled }}
{{- include "redis.fullname" (dict "Release" .Release "Values" .Values.redis) }}
{{- else }}
{{- .Values.redis.externalHost | default "" }}
{{- end }}
{{- end }}

{{- define "guestbook.redisPort" -}}
{{- if .Values.redis.enabled }}
{{- (.Values.redis.service).port | default 6379 }}
{{- else }}
{{- .Values.redis.externalPort | default 6379 }}
{{- end }}
{{- end }}

{{/*
The container image; the tag must be a string (a bare number in YAML would lose zeros).
With image.digest (DeployTag injects the digest it pushed) the image is pinned:
repo:tag@sha256:..., so a moved tag can never change what runs.
*/}}
{{- define "guestbook.image" -}}
{{- $repo := required "image.repository is required" .Values.image.repository }}
{{- $tag := required "image.tag is required" .Values.image.tag | toString }}
{{- if .Values.image.digest }}
{{- printf "%s:%s@%s" $repo $tag .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" $repo $tag }}
{{- end }}
{{- end }}
