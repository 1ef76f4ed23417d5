"""A DAG that needs a provider package deras does not ship: under --compat airflow this file
fails to load with one line naming the module, and the other DAG files still load."""

from datetime import datetime

from airflow import DAG
from airflow.providers.cncf.kubernetes.operators.pod import KubernetesPodOperator

with DAG("pod_task", schedule=None, start_date=datetime(2024, 1, 1)):
    KubernetesPodOperator(task_id="in_a_pod", name="pod", image="busybox", cmds=["true"])
