with source as (
    select * from {{ source('benchling', 'folders') }}
),

renamed as (
    select
        id as folder_id,
        name,
        parent_folder_id,
        project_id,
        coalesce(archived, false) as is_archived,
        archive_record__reason as archive_reason,
        _synced_at
    from source
)

select * from renamed
