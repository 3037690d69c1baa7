with source as (
    select * from {{ source('benchling', 'projects') }}
),

renamed as (
    select
        id as project_id,
        name,
        owner__id as owner_id,
        coalesce(archived, false) as is_archived,
        archive_record__reason as archive_reason,
        _synced_at
    from source
)

select * from renamed
